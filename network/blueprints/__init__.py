"""HTTP blueprints: parse a request, call a service, render, redirect or answer JSON."""
