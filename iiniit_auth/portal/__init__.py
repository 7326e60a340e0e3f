"""The developer portal: self-service pages where a signed-in user manages their own API keys,
OAuth applications and the applications they authorized.

A project routes it with ``path("developer/", include("iiniit_auth.portal.urls"))``; every
page needs a signed-in, active user (the project's ``LOGIN_URL``). Like admin, the portal is
a front door onto the lifecycle methods and functions, which validate, write, audit and
signal; nothing here writes a credential by itself. docs/portal.md describes it.

* :mod:`~iiniit_auth.portal.policy`: what a user may make (scopes, how many keys, lifetimes);
* :mod:`~iiniit_auth.portal.pages`: the decorators and helpers every page shares;
* :mod:`~iiniit_auth.portal.sudo`: asking for the password again before a credential is made;
* :mod:`~iiniit_auth.portal.keys`, :mod:`~iiniit_auth.portal.applications`,
  :mod:`~iiniit_auth.portal.authorized`: the pages;
* :mod:`~iiniit_auth.portal.notices`, :mod:`~iiniit_auth.portal.emails`,
  :mod:`~iiniit_auth.portal.reminders`: e-mail to key owners.

The OAuth pages import django-oauth-toolkit lazily, and only where it is installed and its
server routed: the portal serves API keys alone in a project without it.
"""
