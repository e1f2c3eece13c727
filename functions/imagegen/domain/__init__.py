"""Pure domain: jobs, generations, the state machine, the model catalog and domain errors."""
