"""Deliberately naive implementations that figures compare the real ones against."""
