"""Early Action Hub: lawful, minimal, audited multi-agency information sharing."""
