"""What the wheel carries beyond ``webinars/``; the project's metadata is in pyproject.toml.

The repository keeps ``templates/``, ``migrations/`` and ``config.py`` at its root. A wheel has no
root folder to put them in, so they are mapped into the package (``webinars/templates``,
``webinars/migrations``) and ``config`` is installed as a module beside it; ``webinars.paths``
looks in the package first and in the checkout second, so a source tree and an installed wheel
find the same files.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["webinars", "webinars.*"]),
        "webinars.templates",
        "webinars.migrations",
    ],
    package_dir={"webinars.templates": "templates", "webinars.migrations": "migrations"},
    py_modules=["config"],
    package_data={
        "webinars": ["static/**/*", "translations/*/LC_MESSAGES/*.mo"],
        "webinars.templates": ["**/*.html", "**/*.txt", "**/*.xml"],
        "webinars.migrations": ["alembic.ini", "script.py.mako", "README", "versions/*.py"],
    },
    include_package_data=False,
)
