"""The experiment core, shared by every task.

- :mod:`~salesml.experiment.tasks`: the task registry (``TaskSpec``, metrics,
  the extension point ``register_task``);
- :mod:`~salesml.experiment.task`: the task contract (``Task``, ``TaskView``,
  ``Outcome``);
- :mod:`~salesml.experiment.config`, :mod:`~salesml.experiment.candidates`,
  :mod:`~salesml.experiment.overrides`: configs validated at the edge;
- :mod:`~salesml.experiment.registry`: the candidate registry;
- :mod:`~salesml.experiment.evaluation`: bootstrap CIs and paired differences;
- :mod:`~salesml.experiment.results`: ``summary.json`` as typed data;
- :mod:`~salesml.experiment.reopen`: a finished run reopened from its predictions;
- :mod:`~salesml.experiment.progress`: how a run reports progress.
"""
