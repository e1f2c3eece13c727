"""AWS adapters: DynamoDB job store, SQS queue, R2 (S3 API) image store."""
