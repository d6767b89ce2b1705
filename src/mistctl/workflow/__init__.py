"""mistctl.workflow"""
