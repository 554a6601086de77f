/* Search from the file system. Material's search runs in a Web Worker, and a browser refuses a
   worker whose script is a file:// URL, so a site opened from disk (site/index.html) would have
   no search. Opened that way, this runs the worker's script in a hidden iframe instead and passes
   the messages between them (the idea of the iframe-worker package, written small for this site,
   so nothing is fetched from the network). Served over http(s), the browser's own Worker is used.
   Its name holds "iframe-worker", so Material's offline plugin adds no copy from a CDN. */
(function () {
  "use strict";
  if (window.location.protocol !== "file:") {
    return;
  }

  class IframeWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.queue = [];
      this.ready = false;
      this.iframe = document.createElement("iframe");
      this.iframe.hidden = true;
      (document.body || document.documentElement).appendChild(this.iframe);
      const scope = this.iframe.contentWindow;
      // The worker's `postMessage(data)` answers the page, asynchronously as a worker would.
      scope.postMessage = (data) => {
        window.setTimeout(() => {
          const event = new MessageEvent("message", { data: data });
          if (typeof this.onmessage === "function") {
            this.onmessage(event);
          }
          this.dispatchEvent(event);
        });
      };
      scope.importScripts = () => {
        throw new Error("importScripts is not available to a search opened from the file system");
      };
      this.scope = scope;
      const script = scope.document.createElement("script");
      script.src = new URL(url, window.location.href).href;
      script.onload = () => {
        this.ready = true;
        this.queue.splice(0).forEach((data) => this.deliver(data));
      };
      scope.document.head.appendChild(script);
    }

    deliver(data) {
      this.scope.dispatchEvent(new this.scope.MessageEvent("message", { data: data }));
    }

    postMessage(data) {
      if (this.ready) {
        window.setTimeout(() => this.deliver(data));
      } else {
        this.queue.push(data);
      }
    }

    terminate() {
      this.iframe.remove();
    }
  }

  window.Worker = IframeWorker;
})();
