"""marshmallow schemas: they validate and shape data, they never query."""
