"""The pure domain layer: fleet intent, IP planning, desired Mist objects, diff and plan. No I/O."""
