import type { Stage } from "@creditmeter/shared";
import { LOW_CREDIT_TEXT } from "./low-credit-text.js";

/** Every word the elements show; a host overrides any of them through an element's `strings` property. */
export interface CreditStrings {
  sessionTitle: string;
  creditsUnit: string;
  /** Read by screen readers when the session total changes; `{n}` is the number. */
  sessionAnnounce: string;
  reserved: string;
  reservedTitle: string;
  byStage: string;
  stages: Record<Stage, string>;
  balanceButton: string;
  available: string;
  used: string;
  usagePercent: string;
  seeUsage: string;
  bannerText: string;
  dismiss: string;
  upgrade: string;
  live: string;
  connecting: string;
  reconnecting: string;
  unauthorized: string;
  offline: string;
  /** (CONTRACT §10) With a plan: what the rest of the video will cost; `{n}` is the number. */
  forecastRemaining: string;
  /** When the rest of the video costs more than is available; `{n}` is the missing credits. */
  forecastShortfall: string;
  /** A budget's state: `{n}` credits left of `{m}`. */
  budgetRemaining: string;
  /** Shown once the budget is used up: new steps are refused. */
  budgetReached: string;
  budgetLabel: string;
  budgetSet: string;
  budgetRemove: string;
  /** The budget field holds something other than a whole number ≥ 0. */
  budgetInvalid: string;
}

const en: CreditStrings = {
  sessionTitle: "Credits used this session",
  creditsUnit: "credits",
  sessionAnnounce: "{n} credits used this session",
  reserved: "reserved",
  reservedTitle: "Held for steps in progress; charged or released when they finish",
  byStage: "By stage",
  stages: {
    research: "Research",
    storyboard: "Storyboard",
    keyframes: "Keyframes",
    animation: "Animation",
    voiceover: "Voiceover",
  },
  balanceButton: "Credits: {n} available",
  available: "Available",
  used: "Used",
  usagePercent: "Usage percentage",
  seeUsage: "See detailed usage →",
  bannerText: LOW_CREDIT_TEXT,
  dismiss: "Dismiss",
  upgrade: "Upgrade plan",
  live: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting — numbers may be out of date",
  unauthorized: "Signed out — live updates stopped",
  offline: "Offline — showing the last known numbers",
  forecastRemaining: "About {n} more credits to finish",
  forecastShortfall: "This video needs about {n} more credits than you have available.",
  budgetRemaining: "Budget: {n} of {m} credits left",
  budgetReached: "Budget reached: new steps are refused",
  budgetLabel: "Session budget (credits)",
  budgetSet: "Set budget",
  budgetRemove: "Remove budget",
  budgetInvalid: "Enter a whole number of credits, 0 or more.",
};

const de: CreditStrings = {
  sessionTitle: "In dieser Sitzung verbrauchte Credits",
  creditsUnit: "Credits",
  sessionAnnounce: "{n} Credits in dieser Sitzung verbraucht",
  reserved: "reserviert",
  reservedTitle: "Für laufende Schritte reserviert; wird nach Abschluss berechnet oder freigegeben",
  byStage: "Nach Phase",
  stages: {
    research: "Recherche",
    storyboard: "Storyboard",
    keyframes: "Keyframes",
    animation: "Animation",
    voiceover: "Sprecher",
  },
  balanceButton: "Credits: {n} verfügbar",
  available: "Verfügbar",
  used: "Verbraucht",
  usagePercent: "Nutzung in Prozent",
  seeUsage: "Detaillierte Nutzung ansehen →",
  bannerText:
    "Ihre Credits gehen zur Neige. Wechseln Sie zu einem kostenpflichtigen Tarif für mehr Credits und uneingeschränkten Zugriff auf alle Funktionen.",
  dismiss: "Schließen",
  upgrade: "Tarif upgraden",
  live: "Live",
  connecting: "Verbinde…",
  reconnecting: "Verbindung wird wiederhergestellt — Zahlen sind evtl. veraltet",
  unauthorized: "Abgemeldet — keine Live-Aktualisierung",
  offline: "Offline — zuletzt bekannte Zahlen",
  forecastRemaining: "Noch etwa {n} Credits bis zum Abschluss",
  forecastShortfall: "Dieses Video braucht etwa {n} Credits mehr, als verfügbar sind.",
  budgetRemaining: "Budget: {n} von {m} Credits übrig",
  budgetReached: "Budget erreicht: neue Schritte werden abgelehnt",
  budgetLabel: "Sitzungsbudget (Credits)",
  budgetSet: "Budget festlegen",
  budgetRemove: "Budget entfernen",
  budgetInvalid: "Bitte eine ganze Zahl ab 0 eingeben.",
};

/** The built-in translations, by language subtag; others fall back to English. */
export const BUILT_IN_STRINGS: Readonly<Record<string, CreditStrings>> = { en, de };

/** The strings for `locale` (its language's built-in set, else English) with the host's overrides on top. */
export function resolveStrings(
  locale: string | undefined,
  overrides: Partial<CreditStrings> | undefined,
): CreditStrings {
  const language = (locale ?? "en").toLowerCase().split("-")[0] ?? "en";
  const base = BUILT_IN_STRINGS[language] ?? en;
  if (!overrides) return base;
  return { ...base, ...overrides, stages: { ...base.stages, ...overrides.stages } };
}

/** Puts `n` into a template's `{n}` (and `m` into its `{m}`). */
export function fill(template: string, n: string, m = ""): string {
  return template.replace("{n}", n).replace("{m}", m);
}
