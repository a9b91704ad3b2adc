"""``salesml report``: one self-contained HTML page per experiment, built from MLflow.

- :mod:`salesml.report.build`: the page's content (headline in plain words,
  comparison table with CIs, charts, top drivers, funnel, provenance);
- ``templates/report.html.j2``: the Jinja2 template (inline CSS, images
  embedded as data URIs, no external requests).
"""
