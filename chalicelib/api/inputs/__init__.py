"""Request models (pydantic), one module per route module, loaded lazily."""
