"""mistctl.api"""
