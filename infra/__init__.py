"""The CDK app that deploys imagegen to AWS: `make synth`, `make deploy`."""
