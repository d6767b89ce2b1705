"""mistctl.mist"""
