"""The demo site's pages (``example_project.demo``) through Django's test client."""
