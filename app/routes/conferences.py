"""(being written)"""

from fastapi import APIRouter, Depends

from app.auth import require_user

router = APIRouter(dependencies=[Depends(require_user)])
