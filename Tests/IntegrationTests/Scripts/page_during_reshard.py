#!/usr/bin/env python3
"""Drives the service's page in headless Chromium (DevTools protocol over --remote-debugging-pipe) during a reshard.

It opens the page, gives it the token the way a user does (typed into the page, kept in sessionStorage, never in a
URL), submits a throttled reshard through the API, and reads the page's DOM every 200 ms: how many slots of the
slot map the target owns, and the job's progress bar. It asserts that slots change owner and the progress advances
while the job runs, takes screenshots, and prints a JSON summary. Exit 0 when every assertion holds.
"""
import argparse
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request


class DevTools:
    """The DevTools protocol over the pipe pair Chromium reads on fd 3 and writes on fd 4 (NUL-separated JSON)."""

    def __init__(self, chromium, width=1400, height=1000):
        self.profile = tempfile.mkdtemp(prefix="rcm-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire():
            # Lift both ends clear of 3 and 4 first, so neither dup2 overwrites the other.
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            # The descriptors are closed after preexec_fn runs, except those listed: keep 3 and 4.
            preexec_fn=wire, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.buffer = b""
        self.session = None

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
        raise TimeoutError(method)

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def attach(self):
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        subprocess.run(["rm", "-rf", self.profile])


def api(url, path, token, body=None):
    request = urllib.request.Request(url + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_for(devtools, expression, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if devtools.evaluate(expression):
            return
        time.sleep(0.2)
    raise AssertionError(f"the page never showed {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--slots", type=int, default=4096)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--screenshots", required=True, help="directory for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    devtools = DevTools(args.chromium)
    summary = {"observations": []}
    try:
        devtools.attach()
        devtools.send("Page.navigate", {"url": args.url + "/"})
        wait_for(devtools, "document.readyState === 'complete' && !!document.querySelector('#token')", 30, "the page")
        # Without a token the page says it needs one.
        wait_for(devtools, "document.querySelector('#status').textContent.includes('token')", 30, "the token prompt")
        # The token as a user gives it: typed into the field, then Connect.
        devtools.evaluate(f"document.querySelector('#token').value = {json.dumps(args.token)};"
                          "document.querySelector('#connect').click(); true")
        cluster = f"section.cluster[data-cluster={json.dumps(args.cluster)}]"
        owned = (f"Array.from(document.querySelectorAll({json.dumps(cluster + ' .slotmap span')}))"
                 f".filter(s => s.dataset.owner === {json.dumps(args.to)}).length")
        covered = (f"Array.from(document.querySelectorAll({json.dumps(cluster + ' .slotmap span')}))"
                   ".filter(s => s.dataset.owner).length")
        wait_for(devtools, f"{covered} === 16384", 30, "the slot map")
        before = devtools.evaluate(owned)
        summary["owned_before"] = before

        job = api(args.url, f"/clusters/{args.cluster}/reshard", args.token,
                  {"to": args.to, "slots": args.slots, "max_keys_per_second": args.rate})
        summary["job"] = job["id"]
        bar = f"document.querySelector({json.dumps(cluster + ' .job[data-job=' + json.dumps(str(job['id'])) + ']')})"
        probe = (f"(() => {{ const job = {bar}; return {{owned: {owned}, "
                 "value: job ? Number(job.querySelector('progress').value) : null, "
                 "max: job ? Number(job.querySelector('progress').max) : null, "
                 "status: job ? job.dataset.status : null}; })()")
        mid_shot = False
        deadline = time.time() + 120
        while time.time() < deadline:
            observation = devtools.evaluate(probe)
            observation["t"] = round(time.time(), 2)
            summary["observations"].append(observation)
            if not mid_shot and observation["owned"] and 0 < observation["owned"] < args.slots:
                devtools.screenshot(os.path.join(args.screenshots, "page-during-reshard.png"))
                mid_shot = True
            if observation["status"] in ("succeeded", "failed", "cancelled") and observation["owned"] == before + args.slots:
                break
            time.sleep(0.2)
        devtools.screenshot(os.path.join(args.screenshots, "page-after-reshard.png"))
        summary["final_job"] = api(args.url, f"/jobs/{job['id']}", args.token)["status"]

        observations = summary["observations"]
        owned_values = [o["owned"] for o in observations]
        running_progress = sorted({o["value"] for o in observations
                                   if o["status"] == "running" and o["value"] is not None and 0 < o["value"] < (o["max"] or 0)})
        summary["owned_after"] = owned_values[-1] if owned_values else None
        summary["intermediate_owned"] = sorted({v for v in owned_values if before < v < before + args.slots})
        summary["running_progress"] = running_progress
        problems = []
        if summary["final_job"] != "succeeded":
            problems.append(f"the job ended {summary['final_job']}")
        if summary["owned_after"] != before + args.slots:
            problems.append(f"the slot map shows {summary['owned_after']} slots on the target at the end")
        if not summary["intermediate_owned"]:
            problems.append("the slot map never showed slots changing owner while the job ran")
        if len(running_progress) < 2:
            problems.append(f"the progress bar did not advance while the job ran: {running_progress}")
        if observations and observations[-1]["status"] != "succeeded":
            problems.append(f"the page shows the job as {observations[-1]['status']}")
        summary["problems"] = problems
        summary["mid_screenshot"] = mid_shot
    finally:
        devtools.close()
    summary["observations"] = summary["observations"][-5:]
    print(json.dumps(summary))
    return 0 if not summary.get("problems") else 1


if __name__ == "__main__":
    sys.exit(main())
