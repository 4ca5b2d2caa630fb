import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceops.settings")
application = get_wsgi_application()

# Import every view as the web server starts each worker, not on its first request: the
# charts and statistics behind some pages take seconds to import, which the first person
# served by each worker would otherwise wait for. A view that fails to import stops the
# start, rather than failing requests.
import_module(settings.ROOT_URLCONF)
