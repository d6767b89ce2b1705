"""mistctl.store"""
