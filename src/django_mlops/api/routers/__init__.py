"""One router per resource; the registry (issue 12) and experiments (issue 13) add theirs."""
