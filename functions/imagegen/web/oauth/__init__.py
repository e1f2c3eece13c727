"""The OAuth 2.1 authorization server at the HTTP edge: discovery documents, the SDK's authorization and
registration handlers on our provider, and our token, revocation, consent and grant endpoints."""
