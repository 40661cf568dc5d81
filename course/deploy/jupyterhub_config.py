"""JupyterHub's configuration for the course, read from the deployment that ``make hub`` prepared.

``course.deploy.hub`` lays the deployment out (accounts, the gradebook's PostgreSQL server, the
grader's course, the exchange, the Jupyter configuration of the students and of the grader) and
starts ``jupyterhub -f`` this file with ``COURSE_HUB_SETTINGS`` naming its settings (JSON). What
it sets, after nbgrader's JupyterHub documentation ("One class, multiple graders"):

* the proxy is configurable-http-proxy from npm, installed by ``make setup`` under ``.venv/node``;
* every account logs in through the login page with one shared password (the try-out's
  authenticator; docs/deployment.md says how to use the university's: OAuth, LDAP, PAM);
* each user's JupyterLab runs as their own Unix account (LocalProcessSpawner, as root), in their
  private home, with nbgrader's Assignments panel and none of the instructor's tools;
* the formgrader is a hub service named after the course, a JupyterLab started by the hub as the
  course's grader account in its course folder; the group ``formgrade-<course>`` (the
  instructor) may use it;
* with ``make hub GRADE_ON_SUBMIT=1``, the grading service (``make serve``) is a second hub
  service, ``<course>-grading``, started and stopped by the hub as the grader account: each
  submission graded as it arrives, its feedback released to its student.
"""
import json
import os

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

settings = json.loads(open(os.environ["COURSE_HUB_SETTINGS"]).read())
course, grader_group = settings["course_id"], f"formgrade-{settings['course_id']}"

c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = f"sqlite:///{settings['hub_state']}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{settings['hub_state']}/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.auth_token = settings["proxy_token"]

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = settings["password"]
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.args = settings["student_args"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = settings["student_environment"]
c.Spawner.start_timeout = c.Spawner.http_timeout = 180  # a loaded machine starts JupyterLab slowly

c.JupyterHub.load_groups = {grader_group: {"users": [settings["instructor"]]}}
c.JupyterHub.load_roles = [{
    "name": grader_group,
    "groups": [grader_group],
    # nbgrader's docs: use the course's service, and find it through the hub's API
    "scopes": [f"access:services!service={course}", "list:services", f"read:services!service={course}"],
}]
c.JupyterHub.services = [{
    "name": course,
    "url": f"http://127.0.0.1:{settings['grader_port']}",
    "command": [settings["python"], "-m", "jupyterhub.singleuser"],
    "user": settings["grader"],
    "cwd": settings["course_folder"],
    "environment": settings["grader_environment"],
    "oauth_no_confirm": True,
}]
if settings.get("grade_on_submit"):
    c.JupyterHub.services.append({
        "name": f"{course}-grading",  # no URL: a process the hub keeps running, not a web service
        "command": [settings["python"], "-m", "course", "serve", "--course", settings["course_folder"]],
        "user": settings["grader"],
        "cwd": settings["course_folder"],
        "environment": settings["grader_environment"],
    })
