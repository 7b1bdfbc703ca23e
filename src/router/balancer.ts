import type { Deployment } from './deployment.js';

/**
 * Least in-flight, weighted: the deployment with the lowest `inFlight / weight`. Ties (an idle fleet,
 * one request at a time) are broken at random in proportion to weight, so weights shape the traffic
 * at low load too instead of sending everything to the heaviest deployment.
 */
export function pickDeployment(
  candidates: readonly Deployment[],
  random: () => number = Math.random,
): Deployment | null {
  let best: Deployment[] = [];
  let bestLoad = Infinity;
  for (const candidate of candidates) {
    const load = candidate.inFlight / candidate.weight;
    if (load < bestLoad) {
      bestLoad = load;
      best = [candidate];
    } else if (load === bestLoad) {
      best.push(candidate);
    }
  }
  if (best.length <= 1) return best[0] ?? null;
  const totalWeight = best.reduce((sum, candidate) => sum + candidate.weight, 0);
  let ticket = random() * totalWeight;
  for (const candidate of best) {
    ticket -= candidate.weight;
    if (ticket < 0) return candidate;
  }
  return best.at(-1) ?? null;
}
