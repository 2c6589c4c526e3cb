/** The banner's text, word for word (CONTRACT §7). */
export const LOW_CREDIT_TEXT =
  "You're running low on credits. Upgrade to a paid plan for more credits and uninterrupted access to all features.";
