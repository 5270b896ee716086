"""A runnable Django project that shows django-collab (``python manage.py runserver``)."""
