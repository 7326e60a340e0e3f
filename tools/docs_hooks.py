"""MkDocs hooks (mkdocs.yml names this file): the site is docs/ and the repository's front pages.

README.md becomes the site's home page, and CHANGELOG.md, SECURITY.md and CONTRIBUTING.md
pages of their own, read from the repository at each build, so the site cannot drift from them.
docs/index.md, the map of the guides, makes room as guides.md.

Their links are written for the repository: README.md links ``docs/install.md``, docs/http.md
links ``../README.md#quick-start``. Each link of a page that names a file of the repository is
pointed at the page that file becomes in the site, so MkDocs's own validation (mkdocs.yml) checks
every link and anchor on the site as it is. A link to a file the site does not hold is left as
written, and the strict build reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
DOCS = "docs"
#: Repository path -> the page it is in the site (a path under docs_dir), where that is not the
#: same path below docs/.
PAGES = {
    "README.md": "index.md",
    "CHANGELOG.md": "changelog.md",
    "SECURITY.md": "security-policy.md",
    "CONTRIBUTING.md": "contributing.md",
    f"{DOCS}/index.md": "guides.md",
}
REPOSITORY_OF = {page: path for path, page in PAGES.items()}
#: An inline link or image, ``](target`` (with an optional title after it), and a reference
#: definition, ``[name]: target``; group 1 is what comes before the target, group 2 the target.
LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)|^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(?=>?(?:\s|$))", re.M)
FENCE = re.compile(r"^\s*(```|~~~)")


def site_path(repository_path: str) -> str | None:
    """The page (or file) of the site that ``repository_path`` is, or None if it is not in it."""
    if repository_path in PAGES:
        return PAGES[repository_path]
    if repository_path.startswith(f"{DOCS}/"):
        return repository_path.removeprefix(f"{DOCS}/")
    return None


def retarget(target: str, page_in_site: str) -> str:
    """``target``, a link of the page ``page_in_site`` as written in the repository, for the site.

    URLs, anchors within the page and links that name no file of the site are returned as they
    are.
    """
    if "://" in target or target.startswith(("#", "/", "mailto:")):
        return target
    path, hash_, anchor = target.partition("#")
    page_in_repository = REPOSITORY_OF.get(page_in_site, f"{DOCS}/{page_in_site}")
    linked = posixpath.normpath(posixpath.join(posixpath.dirname(page_in_repository), path))
    in_site = site_path(linked)
    if in_site is None:
        return target
    relative = posixpath.relpath(in_site, posixpath.dirname(page_in_site) or ".")
    return relative + hash_ + anchor


def on_files(files: Files, config: Any) -> Files:
    """Add the repository's front pages, and move docs/index.md to guides.md."""
    index = files.get_file_from_path("index.md")
    if index is not None:
        files.remove(index)
        files.append(
            File.generated(config, PAGES[f"{DOCS}/index.md"], content=index.content_string)
        )
    for path, page in PAGES.items():
        if not path.startswith(f"{DOCS}/"):
            files.append(File.generated(config, page, abs_src_path=str(ROOT / path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """The page's Markdown with its links to the repository's files pointed at the site's pages.

    Fenced code blocks are left as they are.
    """
    page_in_site = page.file.src_uri

    def link(match: re.Match[str]) -> str:
        before, target = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
        return before + retarget(target, page_in_site)

    lines, fenced = [], None
    for line in markdown.splitlines(keepends=True):
        fence = FENCE.match(line)
        if fence and fenced is None:
            fenced = fence.group(1)
        elif fence and fence.group(1) == fenced:
            fenced = None
        elif fenced is None:
            line = LINK.sub(link, line)
        lines.append(line)
    return "".join(lines)
