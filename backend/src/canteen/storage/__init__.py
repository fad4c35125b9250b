"""Object storage for uploaded media: local files in development, S3 in production.

`S3Storage` lives in `canteen.storage.s3` and is imported lazily by `build_storage`,
so the embedded default never pays for importing boto3.
"""

from canteen.storage.base import Storage, validate_key
from canteen.storage.factory import build_storage
from canteen.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "build_storage", "validate_key"]
