"""(being written; public: listed in PUBLIC_PATHS)"""

from fastapi import APIRouter

router = APIRouter()
