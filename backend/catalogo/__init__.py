"""What is on sale: plans, services, and the services (with their limit) each plan includes;
staff administration and the public catalogue."""
