"""Test fakes (fake relay, PNG helpers)."""
