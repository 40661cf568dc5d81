"""The course's grading engine: a sandboxed kernel executes, probes observe, a judge decides.

The pieces plug into nbgrader through ``nbgrader_config.py``:

* ``autograders.execute.SandboxedExecute`` runs a notebook in the ``course-sandbox`` kernel and
  survives what a submission can do to a kernel (timeouts, crashes, floods of output).
* ``autograders.judge.ChooseProbeSeed`` and ``autograders.judge.JudgeProbeReports`` choose the
  grading seed and decide every test cell from the probes' reports, outside the kernel.
* ``autograders.feedback.HideHiddenTests`` keeps hidden tests out of the students' feedback.
"""
