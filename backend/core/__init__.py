"""What every domain shares, and nothing about any one domain: the API glue and error
envelope, the JSON codec, per-request HTTP plumbing, logging, database and column helpers,
base schemas, validators and pagination, mail, crypto, and the audit hook."""
