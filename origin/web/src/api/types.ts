// The API's shapes, generated from origin's OpenAPI document (origin/web/openapi.json →
// schema.d.ts at build time, openapi-typescript), so the app cannot drift from the server:
// a field the API lacks fails `tsc`, and origin's tests fail when openapi.json is stale.
import type { components } from './schema';

type Schemas = components['schemas'];

export type Account = Schemas['Account'];
export type Profile = Schemas['Profile'];
export type ProfileList = Schemas['ProfileList'];
export type NewProfile = Schemas['NewProfile'];
export type ProfileEdit = Schemas['ProfileEdit'];
export type Maturity = Schemas['Maturity'];
export type Title = Schemas['Title'];
export type TitleKind = Schemas['TitleKind'];
export type TitleState = Schemas['TitleState'];
export type Mine = Schemas['Mine'];
export type Markers = Schemas['Markers'];
export type Episode = Schemas['Episode'];
export type Season = Schemas['Season'];
export type Seasons = Schemas['Seasons'];
export type Playback = Schemas['Playback'];
export type PlaybackEdge = Schemas['PlaybackEdge'];
export type ItemProgress = Schemas['ItemProgress'];
export type Card = Schemas['ContinueItem'];
export type Row = Schemas['Row'];
export type History = Schemas['History'];
export type HistoryItem = Schemas['HistoryItem'];
export type Thumb = Schemas['Thumb'];
export type Job = Schemas['Job'];
export type SearchResults = Schemas['SearchResults'];
export type Facets = Schemas['Facets'];
export type FacetValue = Schemas['FacetValue'];
export type Facts = Schemas['Facts'];
export type ViewerRating = Schemas['ViewerRating'];
export type AppNotification = Schemas['Notification'];
export type NotificationList = Schemas['NotificationList'];
export type NotificationKind = Schemas['Kind'];
export type KindPreference = Schemas['KindPreference'];
export type UnreadEvent = Schemas['UnreadEvent'];
export type Fleet = Schemas['Fleet'];
export type FleetEdge = Schemas['FleetEdge'];
export type Unsubscribe = Schemas['Unsubscribe'];
export type Plans = Schemas['Plans'];
export type PlanOffer = Schemas['PlanOffer'];
export type Price = Schemas['Price'];
export type BillingOverview = Schemas['BillingOverview'];
export type SubscriptionView = Schemas['SubscriptionView'];
export type ChargeView = Schemas['ChargeView'];
export type PaymentMethodView = Schemas['PaymentMethodView'];
export type CardForm = Schemas['CardForm'];
export type InvoiceView = Schemas['InvoiceView'];
export type InvoiceList = Schemas['InvoiceList'];
export type Devices = Schemas['Devices'];
export type Device = Schemas['Device'];
