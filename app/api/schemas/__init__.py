"""Request and response bodies, one module per route module of the same name
(app/api/routes/), on the field types of `fields`. No model here has a field for a password
hash."""
