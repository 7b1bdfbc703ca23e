import type { Engine } from '../engines/index.js';
import type { Deployment } from './deployment.js';
import { modelNotFound } from '../errors/index.js';

export interface PublicModel {
  /** The name clients send as `model`. */
  name: string;
  /** Deployments serving it (one, for an embedded model); the router picks among them. */
  engines: Deployment[];
  /** Unix seconds, for GET /models. */
  created: number;
  ownedBy: string;
}

/** Public model names -> the engines behind them. Clients only ever see public names. */
export class ModelRegistry {
  private readonly models = new Map<string, PublicModel>();

  add(model: PublicModel): void {
    this.models.set(model.name, model);
  }

  list(): PublicModel[] {
    return [...this.models.values()];
  }

  get(name: string): PublicModel | undefined {
    return this.models.get(name);
  }

  /** The model, or the contract's 404 `model_not_found`. */
  resolve(name: string): PublicModel {
    const model = this.models.get(name);
    if (!model) throw modelNotFound(name);
    return model;
  }

  engines(): Engine[] {
    return this.list().flatMap((model) => model.engines);
  }
}
