"""Who is on the other end of a request, as far as security needs to know.

`ip` is the client address as the gateway reports it (API Gateway's
`requestContext.identity.sourceIp`; locally the socket's peer), never a
header the client sets such as `X-Forwarded-For`. `otp` is the `Flock-OTP`
header: a one-time code bound to this one request (step-up).
"""
import re
from dataclasses import dataclass

USER_AGENT_CHARS_MAX = 256
OTP_CHARS_MAX = 32
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Client:
    """Attributes:
      ip: the gateway's source address; "unknown" when there is none.
      user_agent: the User-Agent header, cut to 256 characters, without
        control or bidi characters (it is shown back to the person).
      otp: the Flock-OTP header, None when absent.
    """
    ip: str = "unknown"
    user_agent: str = ""
    otp: str | None = None


def from_headers(ip: str, user_agent: str | None, otp: str | None) -> Client:
    agent = _UNPRINTABLE.sub("", user_agent or "")[:USER_AGENT_CHARS_MAX]
    code = otp.strip()[:OTP_CHARS_MAX] if otp else None
    return Client(ip=ip or "unknown", user_agent=agent, otp=code or None)


NOBODY = Client()
