"""The base layer every other package stands on: configuration, errors, the database (schema,
engine, migrations) and the paper model. It imports nothing of ours."""
