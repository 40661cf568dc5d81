# The course's commands. Every target that needs the environment creates it on first use.
# `make demo` runs the whole nbgrader cycle on a synthetic class; `make test` proves it all.

PYTHON      ?= $(shell command -v python3.11 || command -v python3)
VENV        := .venv
BIN         := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
STAMP       := $(VENV)/.installed
COURSE      := $(BIN)/python -m course
# Set STUDENT for the student's side of `make lab`, e.g. `make lab STUDENT=alice`.
STUDENT     ?=

.PHONY: help setup demo test bench generate release collect zip-collect autograde feedback serve export \
        lab formgrader execute bank doctor hub report certs scheduler worker

help:
	@echo "make demo        the whole grading cycle on a synthetic class (start here)"
	@echo "make test        every check CI runs"
	@echo "make generate    source/ -> release/ for every chapter"
	@echo "make release | collect | zip-collect | autograde | feedback | export"
	@echo "make report      the instructor's report after grading: report/index.html"
	@echo "make serve       the grading service: each submission graded as it arrives, feedback in seconds"
	@echo "make lab STUDENT=alice   JupyterLab as a student;  make formgrader   as the instructor"
	@echo "make hub         the course on a local JupyterHub (root): accounts, PostgreSQL, formgrader service"
	@echo "make certs | scheduler | worker SCHEDULER=tls://host:8786   grading on many hosts (docs/distributed.md)"

setup: $(STAMP)

$(STAMP): requirements.txt course/deploy/proxy/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@# the hub's proxy, configurable-http-proxy, at the lock's versions (Node and npm: Debian's nodejs, npm)
	mkdir -p $(VENV)/node && cp course/deploy/proxy/package.json course/deploy/proxy/package-lock.json $(VENV)/node/
	npm ci --prefix $(VENV)/node --no-audit --no-fund --silent
	@# jupyter-events pulls in rfc3987-syntax, which compiles a grammar on import: 1.1 s in every
	@# process that imports nbformat (each grading worker, each nbgrader command), used only to
	@# check JSON-schema's "iri" format, which nothing here asks for
	$(BIN)/pip uninstall --quiet --yes rfc3987-syntax
	@# the course's own packages and the kernel-side probe runtime, importable from the venv
	printf '%s\n%s\n' "$(CURDIR)" "$(CURDIR)/autograders/runtime" \
	    > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/course-repository.pth"
	$(BIN)/python -m autograders.sandbox install
	@# the course's own modules, compiled once (Python may be told not to cache them): a launcher
	@# per kernel, a worker per job and the sandbox's zygote all import them
	$(BIN)/python -m compileall -q autograders course
	@# Debian's packages, as root and only those missing: bubblewrap (the grader's sandbox), chromium (the browser test),
	@# postgresql (the gradebook's server for `make hub` and tests/test_postgres.py)
	@missing=""; command -v bwrap >/dev/null || missing="bubblewrap"; [ -x /usr/bin/chromium ] || missing="$${missing:+$$missing }chromium"; \
	[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || missing="$${missing:+$$missing }postgresql"; \
	if [ -n "$$missing" ]; then \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "WARNING: missing Debian packages, install them (apt-get install $$missing): bubblewrap sandboxes the grader, chromium runs tests/test_browser.py, postgresql serves the hub's gradebook"; \
	fi
	touch $(STAMP)

doctor: $(STAMP)
	$(BIN)/python -m autograders.sandbox doctor

demo: $(STAMP)
	$(COURSE) demo

test: $(STAMP)
	$(BIN)/pytest

# Stock serial nbgrader against the course's parallel grading on one synthetic class, and the
# grading service's latency (ONLY=grading or ONLY=serve for one of them).
bench: $(STAMP)
	$(COURSE) bench $(if $(ONLY),--only $(ONLY))

generate: $(STAMP)
	$(COURSE) generate

release: $(STAMP)
	$(COURSE) release

collect: $(STAMP)
	$(COURSE) collect

# Submissions downloaded from an LMS: put them in downloaded/<assignment>/archive/ first.
zip-collect: $(STAMP)
	$(COURSE) zip-collect

# On this machine's own Dask cluster (JOBS workers, default one per core), or on the cluster at
# SCHEDULER=tls://host:8786 (docs/distributed.md).
autograde: $(STAMP)
	$(COURSE) autograde $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# Grading on many hosts: certificates (copy certs/ to every host), the scheduler, each host's workers.
certs: $(STAMP)
	$(COURSE) certs certs

scheduler: $(STAMP)
	$(COURSE) scheduler --certificates certs

worker: $(STAMP)
	$(COURSE) worker $(SCHEDULER) --certificates certs

feedback: $(STAMP)
	$(COURSE) feedback

# The grading service for the term: each submission graded as it arrives, its feedback released
# to its student (c.GradeOnSubmit in nbgrader_config.py: limits per day, hidden verdicts).
serve: $(STAMP)
	$(COURSE) serve $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

export: $(STAMP)
	$(COURSE) export

# The instructor's report after grading: report/index.html (open it in a browser), test_grades.csv
report: $(STAMP)
	$(COURSE) report

lab: $(STAMP)
	$(COURSE) lab $(if $(STUDENT),--student $(STUDENT))

formgrader: $(STAMP)
	$(COURSE) lab --formgrader

# Re-execute a source notebook in place (store its outputs): make execute NOTEBOOK=source/...
execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace $(NOTEBOOK)

# Grade an assignment's bank of known answers: make bank ASSIGNMENT=01_layers_and_blocks
bank: $(STAMP)
	$(COURSE) bank $(ASSIGNMENT)

# The course on a local JupyterHub, as root: student accounts, the instructor, the grader's formgrader
# service, a PostgreSQL gradebook; prints the URL and the accounts, Ctrl-C stops it all (docs/deployment.md).
hub: $(STAMP)
	$(BIN)/python -m course.deploy.hub $(if $(PORT),--port $(PORT)) $(if $(GRADE_ON_SUBMIT),--grade-on-submit)
