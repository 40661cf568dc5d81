"""``make serve``: grading each submission as it arrives (``service.GradingService``), configured by
``c.GradeOnSubmit`` (``settings``). Nothing is imported here: the instructor's report reads the
service's ``ledger`` without the grading machinery."""
