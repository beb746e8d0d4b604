/**
 * @module
 * A seeded population: users (home country, 1-3 devices, activity level, sign-up and deletion
 * times), courses with videos and assessments. The same seed and sizes give the same population.
 */
import { cumulativeWeights, Rng } from "./_rng.ts";

/** Device types of CONTRACTS.md §2 (`auth_topic.device`). */
export type DeviceType = "mobile" | "web" | "tablet";

export interface Device {
  type: DeviceType;
  id: string;
  os: string;
}

export interface User {
  id: string;
  name: string;
  email: string;
  country: string;
  /** UTC offset of the home country, minutes; drives the daily activity curve and local timestamps. */
  tzOffsetMin: number;
  locale: string;
  plan: "free" | "premium";
  devices: Device[];
  /** Relative activity (heavy-tailed): how often this user starts sessions. */
  activity: number;
  /** Creation time; users created inside the generated span appear as CDC `c` events. */
  createdAt: number;
  /** Deletion time inside the span (CDC `d` + tombstone), or undefined. */
  deletedAt?: number;
}

export interface Video {
  id: string;
  courseId: string;
  title: string;
  durationSec: number;
}

export interface Assessment {
  id: string;
  courseId: string;
  title: string;
  maxScore: number;
  /** Mean fraction of `maxScore` a user scores (0..1). */
  difficulty: number;
}

export interface Course {
  id: string;
  title: string;
  category: string;
  videos: Video[];
  assessments: Assessment[];
  popularity: number;
}

export interface Population {
  users: User[];
  courses: Course[];
  /** Cumulative user activity weights (for weighted picks). */
  userWeights: number[];
  /** Cumulative course popularity weights. */
  courseWeights: number[];
}

/** Options of {@link createPopulation}. */
export interface PopulationOptions {
  /** PRNG seed; default 1. */
  seed?: number;
  /** Number of users; default 1000. */
  users?: number;
  /** Number of courses; default 20. */
  courses?: number;
  /** Start of the generated span (epoch ms); users exist before it unless they sign up inside it. */
  startMs: number;
  /** End of the span; default `startMs` + 1 day. Infinite spans place sign-ups in the first day. */
  endMs?: number;
  /** Share of users that sign up inside the span; default 0.05. */
  signupShare?: number;
  /** Share of users deleted inside the span; default 0.003. */
  deleteShare?: number;
}

/** Country, UTC offset (minutes), locale, weight. */
const COUNTRIES: ReadonlyArray<readonly [string, number, string, number]> = [
  ["US", -300, "en-US", 22],
  ["IN", 330, "en-IN", 16],
  ["BR", -180, "pt-BR", 8],
  ["GB", 0, "en-GB", 7],
  ["DE", 60, "de-DE", 6],
  ["NG", 60, "en-NG", 5],
  ["ID", 420, "id-ID", 5],
  ["MX", -360, "es-MX", 5],
  ["FR", 60, "fr-FR", 4],
  ["JP", 540, "ja-JP", 4],
  ["PH", 480, "en-PH", 4],
  ["VN", 420, "vi-VN", 3],
  ["EG", 120, "ar-EG", 3],
  ["CA", -300, "en-CA", 3],
  ["AU", 600, "en-AU", 2],
  ["KE", 180, "en-KE", 2],
  ["NP", 345, "ne-NP", 1],
];
const COUNTRY_CUM = cumulativeWeights(COUNTRIES.map((c) => c[3]));

const FIRST = [
  "Ada",
  "Ben",
  "Chen",
  "Dara",
  "Emeka",
  "Fatima",
  "Gus",
  "Hana",
  "Ivan",
  "Jia",
  "Kofi",
  "Lena",
  "Mateo",
  "Nia",
  "Omar",
  "Priya",
  "Quinn",
  "Rosa",
  "Sami",
  "Tomás",
  "Uma",
  "Vik",
  "Wen",
  "Yara",
  "Zoe",
];
const LAST = [
  "Okafor",
  "Smith",
  "Nguyen",
  "Silva",
  "Kumar",
  "Müller",
  "Tanaka",
  "Garcia",
  "Hassan",
  "Kowalski",
  "Dubois",
  "Mwangi",
  "Santos",
  "Ivanova",
  "Park",
];
const CATEGORIES = ["data", "programming", "math", "design", "languages", "business", "science"];
const TOPICS: Record<string, string[]> = {
  data: ["SQL Basics", "Data Pipelines", "Statistics", "Dashboards", "Stream Processing"],
  programming: ["TypeScript", "Rust", "Python", "Algorithms", "Testing", "Web APIs"],
  math: ["Linear Algebra", "Calculus", "Probability", "Discrete Math"],
  design: ["UX Research", "Typography", "Color Theory", "Prototyping"],
  languages: ["Spanish A1", "Japanese N5", "German B1", "French A2"],
  business: ["Accounting", "Negotiation", "Marketing", "Product Management"],
  science: ["Physics", "Chemistry", "Biology", "Astronomy"],
};
const LEVELS = ["Intro to", "Practical", "Advanced", "Mastering"];
const OS: Record<DeviceType, string[]> = {
  mobile: ["android-14", "android-15", "ios-18", "ios-19"],
  web: ["chrome", "firefox", "safari", "edge"],
  tablet: ["ipados-18", "android-14"],
};
const DEVICE_TYPES: DeviceType[] = ["mobile", "web", "tablet"];
const DEVICE_CUM = cumulativeWeights([55, 38, 7]);

/**
 * Builds the population for a seed. User ids are `u000001`…, course ids `c001`…, videos
 * `c001-v01`…, assessments `c001-a1`….
 * @throws {RangeError} when a size is not a positive integer
 */
export function createPopulation(options: PopulationOptions): Population {
  const nUsers = options.users ?? 1000;
  const nCourses = options.courses ?? 20;
  for (const [name, v] of [["users", nUsers], ["courses", nCourses]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(
        `Cannot create population: '${name}' must be a positive integer, got ${v}`,
      );
    }
  }
  const rng = new Rng((options.seed ?? 1) ^ 0x5eed);
  const start = options.startMs;
  const end = options.endMs ?? start + 86_400_000;
  const spanEnd = Number.isFinite(end) ? end : start + 86_400_000;
  const span = Math.max(1, spanEnd - start);

  const courses: Course[] = [];
  for (let i = 1; i <= nCourses; i++) {
    const id = `c${String(i).padStart(3, "0")}`;
    const category = rng.pick(CATEGORIES);
    const title = `${rng.pick(LEVELS)} ${rng.pick(TOPICS[category])}`;
    const videos: Video[] = [];
    const nVideos = rng.int(3, 12);
    for (let v = 1; v <= nVideos; v++) {
      videos.push({
        id: `${id}-v${String(v).padStart(2, "0")}`,
        courseId: id,
        title: `${title}: part ${v}`,
        durationSec: rng.int(120, 1800),
      });
    }
    const assessments: Assessment[] = [];
    const nAssess = rng.int(1, 4);
    for (let a = 1; a <= nAssess; a++) {
      assessments.push({
        id: `${id}-a${a}`,
        courseId: id,
        title: `${title} quiz ${a}`,
        maxScore: rng.pick([10, 20, 50, 100]),
        difficulty: 0.45 + rng.next() * 0.4,
      });
    }
    courses.push({ id, title, category, videos, assessments, popularity: rng.logNormal(1, 0.9) });
  }

  const signupShare = options.signupShare ?? 0.05;
  const deleteShare = options.deleteShare ?? 0.003;
  const users: User[] = [];
  for (let i = 1; i <= nUsers; i++) {
    const id = `u${String(i).padStart(6, "0")}`;
    const [country, tzOffsetMin, locale] = rng.pickWeighted(COUNTRIES, COUNTRY_CUM);
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const nDevices = rng.pickWeighted([1, 2, 3], [60, 90, 100]);
    const devices: Device[] = [];
    while (devices.length < nDevices) {
      const type = rng.pickWeighted(DEVICE_TYPES, DEVICE_CUM);
      if (devices.some((d) => d.type === type)) continue;
      devices.push({ type, id: `d-${rng.hex(12)}`, os: rng.pick(OS[type]) });
    }
    const signsUp = rng.chance(signupShare);
    const createdAt = signsUp
      ? start + Math.floor(rng.next() * span * 0.9)
      : start - rng.int(1, 3 * 365) * 86_400_000 - rng.int(0, 86_399_999);
    const user: User = {
      id,
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}.${i}@example.org`.normalize("NFKD")
        .replace(/[^\x20-\x7e]/g, ""),
      country,
      tzOffsetMin,
      locale,
      plan: rng.chance(0.18) ? "premium" : "free",
      devices,
      activity: rng.logNormal(1, 1),
      createdAt,
    };
    if (rng.chance(deleteShare)) {
      user.deletedAt = Math.max(createdAt, start) + Math.floor(rng.next() * span * 0.5) + 1;
    }
    users.push(user);
  }
  return {
    users,
    courses,
    userWeights: cumulativeWeights(users.map((u) => u.activity)),
    courseWeights: cumulativeWeights(courses.map((c) => c.popularity)),
  };
}
