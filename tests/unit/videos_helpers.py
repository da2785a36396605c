"""Uploading as a client does: ask for a presigned POST, send the file to
S3 as a multipart form (moto's S3, in-process), then `complete`."""
import requests

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 80
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 91
NOT_VIDEO = b"%PDF-1.7 this is a document, not a film" + b"\x00" * 61


def offer(api, handle, content_type="video/mp4", size_bytes=len(MP4)):
    r = api.call("POST", "/v1/videos", {"content_type": content_type, "size_bytes": size_bytes}, as_=handle)
    assert r.status_code == 201, r.body
    return r.json_body


def send(offered, data: bytes, content_type="video/mp4"):
    upload = offered["upload"]
    r = requests.post(upload["url"], data=upload["fields"], files={"file": ("film", data, content_type)})
    assert r.status_code in (200, 201, 204), r.text
    return r


def complete(api, handle, video_id):
    r = api.call("POST", f"/v1/videos/{video_id}/complete", as_=handle)
    assert r.status_code == 200, r.body
    return r.json_body


def ready_video(api, handle, data=MP4, content_type="video/mp4") -> str:
    offered = offer(api, handle, content_type, len(data))
    send(offered, data, content_type)
    video = complete(api, handle, offered["id"])
    assert video["status"] == "ready", video
    return video["id"]
