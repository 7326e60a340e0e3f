"""The example project: a small Django site whose API accepts iiniit_auth's credentials."""
