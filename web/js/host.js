// For the tests only: a page that plays Element's part of the widget API (ClientWidgetApi, as
// Element uses it) around the view, handing it the OpenID token the test got from Synapse.
import { ClientWidgetApi, OpenIDRequestState, Widget, WidgetDriver } from "matrix-widget-api";

class Driver extends WidgetDriver {
  constructor(token) {
    super();
    this.token = token;
  }
  askOpenID(observer) {
    observer.update({ state: OpenIDRequestState.Allowed, token: this.token });
  }
}

window.hostWidget = (widgetUrl, token) => {
  const widget = new Widget({
    id: "distansbot-vy",
    creatorUserId: "@distansbot:localhost",
    type: "m.custom",
    url: widgetUrl,
    waitForIframeLoad: true,
  });
  const iframe = document.createElement("iframe");
  const url = new URL(widget.getCompleteUrl({ currentUserId: "@test:localhost" }));
  url.searchParams.set("widgetId", widget.id); // as Element adds them (StopGapWidget)
  url.searchParams.set("parentUrl", location.href.split("#", 2)[0]);
  iframe.src = url.toString();
  iframe.id = "widget";
  document.body.append(iframe);
  window.widgetApi = new ClientWidgetApi(widget, iframe, new Driver(token));
};
