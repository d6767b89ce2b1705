"""Reusable test helpers: the Mist twin (`twin.py`) and OpenAPI contract checks (`openapi_check.py`)."""
