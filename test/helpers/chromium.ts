/** The Chromium the browser tests drive (Debian's package by default). */
export const CHROMIUM = process.env.ORUEL_TEST_CHROMIUM ?? '/usr/bin/chromium';
