"""The site's public face as an administrator sets it: name, logo, accent colour and footer links.

Reading the settings is core (``webinars.site``, given to every template by ``webinars.templating``),
since pages, emails and feeds of every domain name the site; changing them, checking an uploaded logo
and serving the generated stylesheet and SVG logo live here.
"""
