"""mistctl: plan, provision and operate Juniper Mist networks across many sites, as code."""

__version__ = "0.1.0"
