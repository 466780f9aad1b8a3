"""Subjects: identifiers (USCC, organisation codes, identity numbers), person keying, names."""
