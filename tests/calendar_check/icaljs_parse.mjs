// Independent iCalendar parser for the Webinars test-suite (ical.js 2.x).
//
// Reads one iCalendar object from stdin and prints a JSON summary on stdout:
//   {"method", "name", "refresh_interval", "events": [...]}
// On any parse error it prints a message on stderr and exits with status 1.
import ICAL from "ical.js";

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function str(value) {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : value.toString();
}

function stripMailto(value) {
  const s = str(value);
  return s === null ? null : s.replace(/^mailto:/i, "");
}

function isUtc(time) {
  return time.zone === ICAL.Timezone.utcTimezone || time.zone?.tzid === "UTC";
}

function isFloating(time) {
  if (!time) return null;
  if (isUtc(time)) return false;
  return time.zone === undefined || time.zone === null || time.zone === ICAL.Timezone.localTimezone;
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

// ISO 8601 UTC string without milliseconds ("2026-12-15T19:00:00Z").
// DATE values are returned as "YYYY-MM-DD". Floating times are converted as if
// they were UTC (ical.js does not shift floating times), which keeps the output
// independent of the host's TZ; they are flagged by start_is_floating anyway.
function toUtcIso(time) {
  if (!time) return null;
  if (time.isDate) return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  const u = time.convertToZone(ICAL.Timezone.utcTimezone);
  return (
    `${pad(u.year, 4)}-${pad(u.month)}-${pad(u.day)}` +
    `T${pad(u.hour)}:${pad(u.minute)}:${pad(u.second)}Z`
  );
}

function attendee(prop) {
  const rsvp = prop.getParameter("rsvp");
  return {
    email: stripMailto(prop.getFirstValue()),
    cn: str(prop.getParameter("cn")),
    role: str(prop.getParameter("role")),
    partstat: str(prop.getParameter("partstat")),
    rsvp: rsvp === undefined ? null : String(rsvp).toUpperCase() === "TRUE",
  };
}

function eventSummary(vevent) {
  const event = new ICAL.Event(vevent);
  const dtstart = vevent.getFirstProperty("dtstart");
  const organizer = vevent.getFirstProperty("organizer");
  const sequence = vevent.getFirstPropertyValue("sequence");
  const start = event.startDate;
  const end = vevent.hasProperty("dtend") || vevent.hasProperty("duration") ? event.endDate : null;
  return {
    uid: str(event.uid),
    summary: str(event.summary),
    sequence: sequence === null || sequence === undefined ? null : Number(sequence),
    status: str(vevent.getFirstPropertyValue("status")),
    dtstart_utc: toUtcIso(start),
    dtend_utc: toUtcIso(end),
    start_is_floating: isFloating(start),
    tzid: dtstart ? str(dtstart.getParameter("tzid")) : null,
    location: str(event.location),
    url: str(vevent.getFirstPropertyValue("url")),
    description: str(event.description),
    organizer: organizer ? stripMailto(organizer.getFirstValue()) : null,
    organizer_cn: organizer ? str(organizer.getParameter("cn")) : null,
    attendees: event.attendees.map(attendee),
  };
}

function summarize(text) {
  const jcal = ICAL.parse(text);
  if (!Array.isArray(jcal) || typeof jcal[0] !== "string") {
    throw new Error("expected exactly one top-level component");
  }
  const cal = new ICAL.Component(jcal);
  if (cal.name !== "vcalendar") {
    throw new Error(`top-level component is ${cal.name}, expected vcalendar`);
  }
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtz);
  }
  return {
    method: str(cal.getFirstPropertyValue("method")),
    name: str(cal.getFirstPropertyValue("x-wr-calname") ?? cal.getFirstPropertyValue("name")),
    refresh_interval: str(cal.getFirstPropertyValue("refresh-interval")),
    events: cal.getAllSubcomponents("vevent").map(eventSummary),
  };
}

try {
  const text = await readStdin();
  process.stdout.write(JSON.stringify(summarize(text)) + "\n");
} catch (err) {
  process.stderr.write(`ical.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}
