"""The contents manager `make lab` runs: the committed notebooks can be opened, never changed from Lab.

`lab.refuse_saves_into` guards saves (autosave, "Save", a new or pasted file); Lab's
file browser can also rename, move or delete a file, which Jupyter does through
`rename_file` and `delete_file` without any hook. `GuardedContentsManager` refuses
those too (HTTP 403, shown by Lab) for anything inside `guarded` (the project's
`notebooks/`), moving a file in or out included; everywhere else it is Jupyter's own
`AsyncLargeFileManager`. Only the Lab server imports this module (the config file and
its test), so kernels and the CLI never load jupyter_server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError
from traitlets import Unicode


class GuardedContentsManager(AsyncLargeFileManager):
    """Jupyter's file manager, refusing to rename, move or delete anything inside `guarded`."""

    guarded = Unicode("", config=True, help="A folder whose files Lab may read but not rename, move or delete.")

    def _inside(self, path: str) -> bool:
        if not self.guarded:
            return False
        folder = Path(self.guarded).resolve()
        target = (Path(self.root_dir) / path.lstrip("/")).resolve()
        return target == folder or folder in target.parents

    def _refuse(self, path: str, what: str) -> None:
        raise HTTPError(
            403,
            f"{path}: not {what}: {self.guarded} holds the committed notebooks; work in the git-ignored copies "
            "in lab/ (made by `make lab`)",
        )

    async def delete_file(self, path: str) -> Any:
        if self._inside(path):
            self._refuse(path, "deleted")
        return await super().delete_file(path)  # type: ignore[no-untyped-call]  # jupyter_server is untyped

    async def rename_file(self, old_path: str, new_path: str) -> Any:
        for path in (old_path, new_path):
            if self._inside(path):
                self._refuse(path, "renamed or moved")
        return await super().rename_file(old_path, new_path)  # type: ignore[no-untyped-call]
