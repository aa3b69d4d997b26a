// Independent iCalendar parser for the Webinars test-suite (node-ical).
//
// Reads one iCalendar object from stdin and prints a JSON summary on stdout:
//   {"method", "events": [{"uid", "summary", "dtstart_utc", "attendees": [{"cn", "partstat", "rsvp"}]}]}
// On any parse error it prints a message on stderr and exits with status 1.
import ical from "node-ical";

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function text(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "object" && "val" in value) return String(value.val);
  return String(value);
}

function attendees(value) {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((a) => ({
    address: text(a).replace(/^mailto:/i, ""),
    cn: a.params?.CN ?? null,
    partstat: a.params?.PARTSTAT ?? null,
    rsvp: a.params?.RSVP === undefined ? null : String(a.params.RSVP).toUpperCase(),
  }));
}

try {
  const parsed = ical.sync.parseICS(await readStdin());
  const events = [];
  let method = null;
  for (const item of Object.values(parsed)) {
    if (item.type === "VCALENDAR") method = item.method ?? null;
    if (item.type !== "VEVENT") continue;
    const start = item.start instanceof Date && !Number.isNaN(item.start.getTime()) ? item.start : null;
    events.push({
      uid: item.uid ?? null,
      summary: text(item.summary),
      dtstart_utc: start ? start.toISOString().replace(/\.\d{3}Z$/, "Z") : null,
      attendees: attendees(item.attendee),
    });
  }
  process.stdout.write(JSON.stringify({ method, events }));
} catch (error) {
  process.stderr.write(`node-ical: ${error?.stack ?? error}\n`);
  process.exit(1);
}
