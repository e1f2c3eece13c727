"""Services: the application logic behind the tools and the worker. They take their ports as arguments."""
