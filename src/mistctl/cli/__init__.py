"""mistctl.cli"""
